package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/entra-mfa-exporter/entra-mfa-exporter/mfa"
)

const explainHelp = `Explain a label value or a string from the sign-in log: an MFA result code (FAILED_PHONE_APP_DENIED), a satisfied or denied reason (user_declined, or Graph's wording "MFA denied; user declined the authentication"), a method, a sign-in error code (500121 or AADSTS500121), an outcome, a client app... Prints what it means, what typically causes it and what to do, from the catalogue the exporter classifies with (the README's tables are generated from it). A value several catalogues use ("none", "other") is explained for each; qualify it to choose one: method:other, reason=other. An unknown term prints the closest known terms and exits with status 1.`

// explainCommand is the `explain` subcommand.
type explainCommand struct {
	cmd  *kingpin.CmdClause
	term *[]string
}

func addExplainCommand(app *kingpin.Application) *explainCommand {
	ec := &explainCommand{}
	ec.cmd = app.Command("explain", explainHelp)
	// Several words form one term, so that Graph's sentences need no quoting.
	ec.term = ec.cmd.Arg("term", "The term to explain.").Required().Strings()
	return ec
}

// FullCommand is the name kingpin's Parse returns for this command.
func (ec *explainCommand) FullCommand() string { return ec.cmd.FullCommand() }

// closestCount is how many suggestions an unknown term gets.
const closestCount = 5

func (ec *explainCommand) run(stdout, stderr io.Writer) int {
	term := strings.Join(*ec.term, " ")
	all := mfa.ExplainAll(term)
	if len(all) == 0 {
		fmt.Fprintf(stderr, "entra-mfa-exporter explain: no catalogue entry for %q.\n", term)
		if near := mfa.ClosestTerms(term, closestCount); len(near) > 0 {
			fmt.Fprintf(stderr, "Closest known terms:\n")
			for _, n := range near {
				fmt.Fprintf(stderr, "  %s\n", n)
			}
		}
		return 1
	}
	_, err := io.WriteString(stdout, explainText(all))
	if err != nil {
		fmt.Fprintf(stderr, "entra-mfa-exporter explain: %v\n", err)
		return 1
	}
	return 0
}

// explainText renders catalogue entries for a terminal.
func explainText(all []mfa.Explanation) string {
	var b strings.Builder
	for i, e := range all {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s = %s  (%s)\n", e.Catalogue, e.Label, e.Title)
		fmt.Fprintf(&b, "  %-15s%s\n", "Meaning:", e.Description)
		fmt.Fprintf(&b, "  %-15s%s\n", "Typical cause:", e.Cause)
		fmt.Fprintf(&b, "  %-15s%s\n", "What to do:", e.Action)
		if len(e.Wire) > 0 {
			quoted := make([]string, len(e.Wire))
			for j, w := range e.Wire {
				quoted[j] = fmt.Sprintf("%q", w)
			}
			fmt.Fprintf(&b, "  %-15s%s\n", "Graph writes:", strings.Join(quoted, ", "))
		}
	}
	return b.String()
}
