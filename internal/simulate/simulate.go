package simulate

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
)

// Options says what Generate simulates. The zero value is valid: seed 0, ten
// minutes from DefaultStart, no scenario.
type Options struct {
	// Seed selects the random choices; the same Options give the same bytes.
	Seed int64
	// Start is the time of the capture's beginning (DefaultStart if zero).
	Start time.Time
	// Duration is the simulated time span (DefaultDuration if zero); no
	// packet is at or after Start+Duration. It must be at least MinDuration.
	Duration time.Duration
	// Scenarios names scenarios from Scenarios() to inject, each once.
	Scenarios []string
	// ScenarioStart gives a scenario's start as an offset from Start; a
	// scenario not in the map starts at a default offset (40 % of the
	// capture for portscan, 60 % for new-device, earlier if it would not
	// end five seconds before the capture does).
	ScenarioStart map[string]time.Duration
	// PollInterval is the HMIs' Modbus poll period (1 s if zero).
	PollInterval time.Duration
	// HistorianInterval is the historian's poll period (5 s if zero).
	HistorianInterval time.Duration
	// Cells names optional parts of the plant to add (Cells(), or CellAll
	// for every one); none by default. A scenario that needs a cell
	// enables it too.
	Cells []string
}

// Defaults of Options.
var (
	DefaultStart    = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	DefaultDuration = 10 * time.Minute
)

// MinDuration is the shortest capture Generate makes.
const MinDuration = 30 * time.Second

// warmup is the time the plant needs before a scenario can start: the
// gateway resolutions and the workstation's DHCP exchange happen in it.
const warmup = 5 * time.Second

// ModbusCounts counts the Modbus/TCP ADUs of a capture by function code;
// an exception response counts under its function code with the high bit
// cleared, and in Exceptions.
type ModbusCounts struct {
	Requests   map[uint8]int // requests by function code
	Responses  map[uint8]int // responses, exceptions included, by function code
	Exceptions int           // exception responses
}

// DNP3Counts counts the DNP3 application-layer fragments of a capture by
// function code and direction (IEEE 1815-2012, section 4.2.2.5).
type DNP3Counts struct {
	FromMaster     map[uint8]int // requests and confirms, master to outstation
	FromOutstation map[uint8]int // responses (129) and unsolicited responses (130)
}

// S7Userdata names an S7comm userdata service: a function group (the low
// nibble of the type/group byte) and a subfunction.
type S7Userdata struct {
	Group       uint8
	Subfunction uint8
}

// S7Counts counts the S7comm PDUs of a capture: jobs and ack_data by
// function code, userdata requests and responses by service.
type S7Counts struct {
	Jobs              map[uint8]int      // ROSCTR 1 (job) PDUs by function
	AckData           map[uint8]int      // ROSCTR 3 (ack_data) PDUs by function
	UserdataRequests  map[S7Userdata]int // ROSCTR 7 PDUs of type request
	UserdataResponses map[S7Userdata]int // ROSCTR 7 PDUs of type response
}

// ENIPCounts counts the EtherNet/IP encapsulation messages and the CIP
// explicit messages of a capture. A service counts without its reply bit.
type ENIPCounts struct {
	Commands     map[uint16]int // encapsulation commands, requests and replies, TCP and UDP
	CIPRequests  map[uint8]int  // explicit CIP requests by service
	CIPResponses map[uint8]int  // explicit CIP replies by service (reply bit cleared)
	IOPackets    int            // class 1 implicit packets on UDP 2222
}

// Summary describes a generated capture.
type Summary struct {
	Start    time.Time    // Options.Start
	End      time.Time    // Start + Duration; every packet is before it
	Packets  int          // frames written
	Bytes    int64        // bytes of the frames (captured and on the wire)
	Hosts    []Host       // Plant() followed by the scenarios' hosts
	Events   []Event      // the scenarios' events, in time order
	Modbus   ModbusCounts // the Modbus ADUs written
	DNP3     DNP3Counts   // the DNP3 application fragments written
	S7       S7Counts     // the S7comm PDUs written
	ENIP     ENIPCounts   // the EtherNet/IP and CIP messages written
	BACnet   BACnetCounts // the BACnet/IP APDUs written (building cell)
	IEC104   IEC104Counts // the IEC 104 APDUs written (substation cell)
	GOOSE    GOOSECounts  // the GOOSE frames written (substation cell)
	MMS      MMSCounts    // the MMS PDUs written (substation cell)
	OPCUA    OPCUACounts  // the OPC UA messages written (opcua cell)
	ScanSYNs int          // SYN probes the portscan scenario sent
}

func (o Options) withDefaults() (Options, []*scenarioDef, error) {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.HistorianInterval == 0 {
		o.HistorianInterval = 5 * time.Second
	}
	if o.Duration < MinDuration {
		return o, nil, fmt.Errorf("simulate: duration %v is shorter than %v", o.Duration, MinDuration)
	}
	if o.Start.Unix() < 0 || o.Start.Add(o.Duration).Unix() > 1<<32-1 {
		return o, nil, fmt.Errorf("simulate: start %v is outside the pcap time range (1970 to 2106)", o.Start)
	}
	if o.PollInterval < 500*time.Millisecond || o.HistorianInterval < 500*time.Millisecond {
		return o, nil, fmt.Errorf("simulate: poll intervals %v and %v must be at least 500ms", o.PollInterval, o.HistorianInterval)
	}
	var defs []*scenarioDef
	for _, name := range o.Scenarios {
		d, err := lookupScenario(name)
		if err != nil {
			return o, nil, err
		}
		if slices.Contains(defs, d) {
			return o, nil, fmt.Errorf("simulate: scenario %q given twice", name)
		}
		at, ok := o.ScenarioStart[name]
		if !ok {
			at = d.offset(o.Duration)
		}
		if at < warmup || at+d.span > o.Duration-warmup {
			return o, nil, fmt.Errorf("simulate: scenario %q at %v does not fit between %v and %v", name, at, warmup, o.Duration-warmup-d.span)
		}
		defs = append(defs, d)
	}
	for name := range o.ScenarioStart {
		if _, err := lookupScenario(name); err != nil {
			return o, nil, err
		}
	}
	if _, err := cellEnabled(o.Cells, o.Scenarios); err != nil {
		return o, nil, err
	}
	return o, defs, nil
}

// scenarioStream returns the random stream number of a scenario: the first
// six keep the numbers they always had, the others take one from their name
// so that adding a scenario changes no other's traffic.
func scenarioStream(name string) uint64 {
	if i := slices.IndexFunc(scenarioDefs[:min(6, len(scenarioDefs))], func(x scenarioDef) bool { return x.Name == name }); i >= 0 {
		return 10 + uint64(i)
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return 1<<32 | h.Sum64()>>32
}

// Generate writes a simulated capture of the plant to w as a classic pcap
// file (little-endian, nanosecond timestamps, Ethernet) and describes it.
func Generate(w io.Writer, opts Options) (Summary, error) {
	o, defs, err := opts.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	pw := capture.NewWriter(bw, layers.LinkTypeEthernet, 0)
	if err := pw.WriteHeader(); err != nil {
		return Summary{}, fmt.Errorf("simulate: writing pcap header: %w", err)
	}
	sum := Summary{
		Start: o.Start, End: o.Start.Add(o.Duration),
		Modbus: ModbusCounts{Requests: map[uint8]int{}, Responses: map[uint8]int{}},
		DNP3:   DNP3Counts{FromMaster: map[uint8]int{}, FromOutstation: map[uint8]int{}},
		S7: S7Counts{Jobs: map[uint8]int{}, AckData: map[uint8]int{},
			UserdataRequests: map[S7Userdata]int{}, UserdataResponses: map[S7Userdata]int{}},
		ENIP: ENIPCounts{Commands: map[uint16]int{}, CIPRequests: map[uint8]int{}, CIPResponses: map[uint8]int{}},
	}
	streams := func(i uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(o.Seed), 0x6f7477617463<<16|i)) }
	s := &sim{
		start: o.Start, end: o.Duration, rng: streams(0), sum: &sum,
		buf:   gopacket.NewSerializeBufferExpectedSize(64, 256),
		write: func(ts time.Time, data []byte) error { return pw.WritePacket(ts, data, len(data)) },
	}
	p := s.buildPlant(streams)
	s.schedulePlant(p, &o, streams)
	for _, d := range defs {
		at, ok := o.ScenarioStart[d.Name]
		if !ok {
			at = d.offset(o.Duration)
		}
		d.run(s, p, at, streams(scenarioStream(d.Name)))
	}
	for _, n := range p.nodes {
		h := n.Host
		h.MAC = append(net.HardwareAddr(nil), n.MAC...)
		sum.Hosts = append(sum.Hosts, h)
	}
	if err := s.run(); err != nil {
		return sum, fmt.Errorf("simulate: writing packet: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("simulate: writing pcap: %w", err)
	}
	slices.SortStableFunc(sum.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return sum, nil
}
