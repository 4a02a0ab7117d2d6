// Package operational is the Operational engine: controller stop and start, program upload and download, firmware updates, restarts, time changes, exception bursts and devices that stop responding.
package operational
