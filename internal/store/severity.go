package store

import (
	"fmt"
	"unicode/utf8"

	"github.com/otwatch/otwatch/internal/alert"
)

// AuditSeverity is the audit log action of a person's severity change of
// one alert; its Object is "alert:<id>". A bulk change is audited once,
// as AuditBulkSeverity with Object "alerts".
const (
	AuditSeverity     = "alert." + ActionSeverity
	AuditBulkSeverity = "alert.bulk_severity"
)

// CheckSeverity validates the arguments of a severity change: ErrInvalid
// for an unknown severity or a reason longer than MaxReasonLen.
func CheckSeverity(sev alert.Severity, reason string) error {
	if sev < alert.Low || sev > alert.Critical {
		return fmt.Errorf("%w: unknown severity %d", ErrInvalid, sev)
	}
	return checkReason(reason)
}

// checkReason fails with ErrInvalid when reason is not UTF-8 or longer
// than MaxReasonLen characters.
func checkReason(reason string) error {
	if !utf8.ValidString(reason) {
		return fmt.Errorf("%w: reason is not UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(reason); n > MaxReasonLen {
		return fmt.Errorf("%w: reason of %d characters (at most %d)", ErrInvalid, n, MaxReasonLen)
	}
	return nil
}

// SeverityDetail is the audit log detail of a severity change: "High →
// Low", then ": " and the reason when there is one.
func SeverityDetail(from, to alert.Severity, reason string) string {
	d := from.String() + " → " + to.String()
	if reason != "" {
		d += ": " + reason
	}
	return d
}
