// Package reports will render sweep results: benchstat tables, plots made
// with gonum.org/v1/plot, roofline charts and report.md.
package reports
