// Package sysdescr reads the free-text system description a device
// announces about itself (LLDP System Description, SNMP sysDescr) and tells
// whether it names an operating system ("Cisco IOS Software", "Linux
// 5.10", "Windows") or only a product.
package sysdescr
