package main

import "fmt"

// figure is one line of the closing summary: what was measured, its value,
// the yardstick it is judged against (measured in the same run, or the
// issue's fixed target where there is no yardstick to measure), the ratio,
// and the target.
type figure struct {
	part, name, value, yardstick, ratio, target string
	// meets is "yes", "NO" or "" when there is no target.
	meets string
}

// addFigure records a line of the summary the run prints at its end.
func (e *env) addFigure(f figure) { e.figures = append(e.figures, f) }

// ratioFigure is a figure whose target is a ratio to its yardstick.
func ratioFigure(part, name string, value, yard float64, unit func(float64) string, min float64) figure {
	f := figure{part: part, name: name, value: unit(value), yardstick: unit(yard), ratio: ratio(value, yard)}
	if min > 0 {
		f.target = fmt.Sprintf("≥ %.1f", min)
		f.meets = meets(yard > 0 && value/yard >= min)
	}
	return f
}

func meets(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// printSummary prints every recorded figure as one table.
func (e *env) printSummary() {
	if len(e.figures) == 0 {
		return
	}
	fmt.Printf("\n== Summary: every figure beside its yardstick from this run ==\n")
	t := newTable("part", "figure", "value", "yardstick", "ratio", "target", "meets")
	for _, f := range e.figures {
		t.add(f.part, f.name, f.value, f.yardstick, f.ratio, f.target, f.meets)
	}
	t.print()
}
