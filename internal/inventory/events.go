package inventory

import "time"

// EventType names a kind of inventory change.
type EventType string

// Event types.
const (
	EventNewDevice      EventType = "new_device"      // a device was seen for the first time
	EventNewIP          EventType = "new_ip"          // a known device uses another IP address
	EventNewName        EventType = "new_name"        // a known device announced another host name
	EventFirmwareChange EventType = "firmware_change" // a source reports another firmware version
	EventModelChange    EventType = "model_change"    // a source reports another model or product
	EventNewProtocol    EventType = "new_protocol"    // a known device serves or uses another protocol
	EventNewConnection  EventType = "new_connection"  // two devices talk over a protocol for the first time
	EventInactive       EventType = "device_inactive" // a device has not been seen for Options.Inactive
	EventMerged         EventType = "device_merged"   // a device known by IP turned out to be a MAC device's
	EventIPMoved        EventType = "ip_moved"        // an IP address now belongs to another device
	EventIPConflict     EventType = "ip_conflict"     // a device claimed in ARP an IP address another device holds
)

// EventTypes are the types of the events the inventory reports, in the
// order of their declaration.
var EventTypes = []EventType{EventNewDevice, EventNewIP, EventNewName, EventFirmwareChange, EventModelChange,
	EventNewProtocol, EventNewConnection, EventInactive, EventMerged, EventIPMoved, EventIPConflict}

// Event is one inventory change.
type Event struct {
	Type   EventType `json:"type"`
	Time   time.Time `json:"time"`
	Device DeviceID  `json:"device"`
	// Peer is the other device of a connection, the device an IP moved
	// from or merged into, or the device that holds a claimed IP; 0 when
	// none.
	Peer   DeviceID `json:"peer,omitempty"`
	Detail string   `json:"detail"`
}

// Sink receives inventory events, in order, from the goroutine that feeds
// the Inventory.
type Sink interface {
	Event(e Event)
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(e Event)

// Event calls f(e).
func (f SinkFunc) Event(e Event) { f(e) }
