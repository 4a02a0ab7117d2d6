// Package devmap lays out the device map of an inventory snapshot and
// draws it as SVG.
//
// The layout is deterministic and needs no client-side code: one
// horizontal band per Purdue level (level 5 at the top, level 0 and then
// the devices of unknown level at the bottom); inside a band, one box per
// zone and subnet (or routed network, for devices seen only behind a
// router), placed in rows; inside a box, the devices on a grid, ordered by
// address. Connections become edges between device centres, one per pair
// of devices whatever the number of protocols and ports between them,
// classed as industrial, IT or relation (a routed device's link to its
// router).
//
// Filters keep only some protocols, Purdue levels, zones or device types.
// A highlight (an alert's devices and connection) marks devices and edges
// for emphasis, keeps them whatever the filters, and gives the region the
// page should show first (Map.Focus).
//
// WriteSVG draws the map with CSS classes rather than inline styles, an id
// and a data-device-id attribute on every device, and a viewBox the page
// pans and zooms; Stylesheet is the default look. JSON gives the same map
// to the API.
package devmap
