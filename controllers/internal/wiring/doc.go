// Package wiring holds what every Gatehouse controller is built with: the
// Deps that controllers.Setup fills once and hands to each controller
// package's Setup, the builders that give every controller the same
// options, and the event handlers the packages share.
package wiring
