// Package wiring holds what every Gatehouse controller is built with: the
// event handlers the controller packages share.
package wiring
