// Package ftp dissects the FTP control connection (RFC 959, with the
// extensions of RFC 2228 AUTH, RFC 2389 FEAT, RFC 2428 EPRT/EPSV and RFC
// 3659 MLST/SIZE/MDTM): commands paired with their final replies, the user
// name and the fact that the password crossed the network in clear, the
// files transferred, and the data connection ports. PLCs, RTUs and HMIs
// still offer FTP for configuration and firmware files.
package ftp
