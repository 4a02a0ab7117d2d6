package csaf_test

import (
	"fmt"
	"os"

	"github.com/otwatch/otwatch/internal/csaf"
)

// Match a device against an advisory and score its risk.
func ExampleCatalog_Match() {
	f, err := os.Open("testdata/advisory.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	adv, err := csaf.Parse(f, "advisory.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	cat := csaf.NewCatalog(adv)
	dev := csaf.Device{Vendor: "Example Industrial GmbH", Model: "9EX9 910-0AA00-0AB0", Product: "PLC-9 CPU 910", Firmware: "V2.5"}
	for _, m := range cat.Match(dev) {
		fmt.Println(m.Advisory.ID, m.Verdict, m.Level(), m.CVEs, "fixed in", m.FixedIn)
		for _, r := range m.Reasons {
			fmt.Println(" -", r)
		}
		// Risk's formula: B 9.8 (CVSS AV:N) × E 1.0 (public exploits) ×
		// X 0.9 (AV:N, reachable from outside its zone) × C 1.0 (plc) ×
		// W 0.95 (order number listed, version in range) = 8.379.
		fmt.Printf("risk %.2f\n", csaf.Risk([]csaf.Match{m}, csaf.Exposure{DeviceType: "plc", Remote: true}))
	}
	// Output:
	// EX-2024-0001 affected high [CVE-2024-0001] fixed in V2.9.4
	//  - vendor "Example Industrial GmbH" matches the advisory's "Example Industrial"
	//  - order number 9EX99100AA000AB0 is listed for "PLC-9 family PLC-9 CPU 910"
	//  - firmware V2.5 is within the affected versions "vers:generic/>=2.0|<2.9.4"
	// risk 8.38
}
