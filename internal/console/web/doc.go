// Package web serves the console's pages: the alerts grid and an alert's
// details, the device inventory and a device's details, the device map,
// the event timeline, sites, zones and sensors, the audit log and the login
// page.
//
// Pages are rendered on the server with html/template from templates
// embedded in the binary; one small script of our own (static/app.js)
// adds the details pane, bulk selection, keyboard shortcuts and the map's
// pan and zoom, and every page works without it. Nothing needs building.
//
// Every page but the login page needs a session (auth.RequirePage sends
// the browser to /login otherwise). Every state-changing form is a POST
// carrying the session's CSRF token, which the same middleware checks, and
// the handler checks the user's role again: read-only users see no action
// buttons and are refused (403) if they post anyway. Changes go through
// the store, which records them in the audit log.
//
// Downloads that the REST API already serves (an alert's PCAP, the CSV
// export of the alert grid) are links to the API; the PDF report of an
// alert is made here with internal/report.
package web
