package csaf

import (
	"fmt"
	"slices"
	"testing"
)

// prepareDevice prepares a device for matching, name and firmware.
func prepareDevice(d Device) *devInfo {
	di := prepareDeviceName(d)
	di.setFirmware(d.Firmware)
	return di
}

// TestIndexFindsEveryMatch compares the devices of the labeled
// inventories, and every model the shared advisories name with no vendor,
// with every product of the shared advisories: each product the device
// matches by vendor and name must be among the candidates the index
// finds.
func TestIndexFindsEveryMatch(t *testing.T) {
	cat := sharedCatalog(t)
	var devs []Device
	for _, file := range []string{"testdata/inventory.txt", "testdata/inventory-2.txt"} {
		for _, d := range readInventory(t, file) {
			devs = append(devs, d.dev)
		}
	}
	for _, m := range fleetModels(cat) {
		devs = append(devs, Device{Model: m.model, Product: m.product})
	}
	// Products of the same name match the same devices: each name is
	// compared once.
	type product struct {
		name    *nameInfo
		entries []int32
	}
	var products []product
	byName := map[string]int{}
	for ai := range cat.advs {
		ca := &cat.advs[ai]
		for ei := range ca.entries {
			n := &ca.entries[ei].name
			k := fmt.Sprintf("%+v", *n)
			i, ok := byName[k]
			if !ok {
				i = len(products)
				byName[k] = i
				products = append(products, product{name: n})
			}
			products[i].entries = append(products[i].entries, ca.first+int32(ei))
		}
	}
	s := cat.getScratch()
	accepted := 0
	for _, d := range devs {
		di := prepareDevice(d)
		cands := cat.candidates(di, s, nil)
		for _, p := range products {
			if matchName(p.name, di, false).lvl == lvlNone {
				continue
			}
			for _, g := range p.entries {
				ca := &cat.advs[cat.index.entryAdv[g]]
				e := &ca.entries[g-ca.first]
				if evaluate(e, di, false).lvl == lvlNone {
					continue // another vendor
				}
				accepted++
				if _, found := slices.BinarySearch(cands, g); !found {
					t.Errorf("%+v matches %s product %s (%q), which the index does not find", d, ca.adv.ID, e.prod.ID, e.display)
				}
			}
		}
	}
	t.Logf("%d devices, %d product names, %d matches", len(devs), len(products), accepted)
	if accepted < len(devs) {
		t.Errorf("%d product matches for %d devices; the test data no longer exercises the index", accepted, len(devs))
	}
}

// TestIndexNarrows checks that the index leaves out most products.
func TestIndexNarrows(t *testing.T) {
	cat := sharedCatalog(t)
	s := cat.getScratch()
	tests := []struct {
		dev  Device
		most int // candidates at most
	}{
		{Device{Model: "6ES7 315-2EH14-0AB0", Product: "CPU 315-2 PN/DP"}, 60},
		{Device{Vendor: "Rockwell Automation", Model: "1756-L83E/B"}, 60},
		{Device{Product: "Metasys"}, 20},
		{Device{Vendor: "Pilz", Product: "PNOZmulti 2"}, 0},
		{Device{}, 0},
	}
	for _, tt := range tests {
		cands := cat.candidates(prepareDevice(tt.dev), s, nil)
		if len(cands) > tt.most {
			t.Errorf("%+v: %d candidates of %d products, want at most %d", tt.dev, len(cands), len(cat.index.entryAdv), tt.most)
		}
	}
}
