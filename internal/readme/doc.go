// Package readme holds the test that keeps the README's generated sections (metrics table,
// classification tables, configuration example) equal to what the code produces.
package readme
