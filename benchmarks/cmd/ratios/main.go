// Command ratios prints the comparison table of BENCHMARKS.md from one
// interleaved benchmark run: every figure is a ratio (or a difference) of
// the medians of benchmarks measured in that same run, never an absolute
// time compared across runs.
//
//	go run ./cmd/ratios [-quick] results.txt
//
// results.txt is raw `go test -bench` output, usually several rounds of the
// whole suite appended one after another (see run.sh). The "rounds" column
// gives the smallest and largest ratio of the benchmarks' i-th samples, i.e.
// of the same round: how much the machine's noise moved the figure.
//
// "value" and "result" use wall-clock ns/op, as benchstat shows it. The
// CPU-time column is the same ratio of cpu-ns/op (the process's CPU time per
// operation, garbage collection included): on a machine shared with other
// work it is the steadier of the two, and where they disagree the machine
// was busy. Parallel rows compare wall time only. When the load average
// run.sh noted says the machine was busy, wall time is not fit to judge a
// target: timing rows are then judged by their CPU-time ratio, and rows
// without one (parallel scaling) get no verdict.
//
// Timings are never pass/fail: ratios always exits 0 once it has read its
// input, whatever the targets say.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// samples[benchmark][unit] lists the values in input order.
type samples map[string]map[string][]float64

var (
	procSuffix = regexp.MustCompile(`-\d+$`)
	loadLine   = regexp.MustCompile(`^# round .*loadavg ([0-9.]+)`) // written by run.sh
)

// parse reads go test -bench output, and the 1-minute load averages that
// run.sh notes before each round.
func parse(r io.Reader) (samples, []float64, error) {
	s := samples{}
	var loads []float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := loadLine.FindStringSubmatch(sc.Text()); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil {
				loads = append(loads, v)
			}
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // not a result line
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		if s[name] == nil {
			s[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			s[name][fields[i+1]] = append(s[name][fields[i+1]], v)
		}
	}
	return s, loads, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

func (s samples) get(name, unit string) []float64 { return s[name][unit] }

func (s samples) med(name, unit string) float64 { return median(s.get(name, unit)) }

// A row of the table.
type row struct {
	figure string
	value  float64
	format string  // for value
	rng    string  // per-round range, for ratios
	cpu    string  // the same ratio of cpu-ns/op, with its range
	cpuVal float64 // that ratio; NaN if there is none
	timed  bool    // a timing (ns/op), not a count
	target string
	met    func(float64) bool // nil: information only
}

// ratio returns the ratio of the medians of unit and the range of the
// per-round ratios (the i-th sample of each comes from the same round).
func ratio(s samples, num, den, unit string) (float64, string) {
	v := s.med(num, unit) / s.med(den, unit)
	a, b := s.get(num, unit), s.get(den, unit)
	rng := ""
	if n := min(len(a), len(b)); n > 1 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i++ {
			q := a[i] / b[i]
			lo, hi = math.Min(lo, q), math.Max(hi, q)
		}
		rng = fmt.Sprintf("%.2f–%.2f", lo, hi)
	}
	return v, rng
}

func ratioRow(s samples, figure, num, den, unit, target string, met func(float64) bool) row {
	r := row{figure: figure, format: "%.2f×", target: target, met: met, cpuVal: math.NaN(), timed: unit == "ns/op"}
	r.value, r.rng = ratio(s, num, den, unit)
	if unit == "ns/op" && !strings.HasPrefix(figure, "parallel") {
		if v, rng := ratio(s, num, den, "cpu-ns/op"); !math.IsNaN(v) {
			r.cpuVal = v
			r.cpu = fmt.Sprintf("%.2f×", v)
			if rng != "" {
				r.cpu += " (" + rng + ")"
			}
		}
	}
	return r
}

func valueRow(figure string, v float64, format, target string, met func(float64) bool) row {
	return row{figure: figure, value: v, format: format, target: target, met: met, cpuVal: math.NaN()}
}

func atLeast(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
func atMost(x float64) func(float64) bool  { return func(v float64) bool { return v <= x } }

// lower returns whichever of the benchmarks a and b has the lower median
// CPU time per operation (wall time if there is none): of two floors, the
// one a ratio must be measured against.
func lower(s samples, a, b string) string {
	unit := "cpu-ns/op"
	if math.IsNaN(s.med(a, unit)) || math.IsNaN(s.med(b, unit)) {
		unit = "ns/op"
	}
	if s.med(b, unit) < s.med(a, unit) {
		return b
	}
	return a
}

func rows(s samples) []row {
	const ns, allocs, bytes, cookie = "ns/op", "allocs/op", "B/op", "cookie-bytes"
	largeFloor := lower(s, "FloorRoundTrip_LARGE", "TightFloorRoundTrip_LARGE")
	return []row{
		// Issue 12's targets, in its order.
		valueRow("allocs/op, codec round trip SMALL: lib",
			s.med("LibCodecRoundTrip_SMALL", allocs), "%.0f", "≤ 2", atMost(2)),
		valueRow("B/op, codec round trip SMALL: lib",
			s.med("LibCodecRoundTrip_SMALL", bytes), "%.0f B", "≤ 600", atMost(600)),
		ratioRow(s, "codec round trip SMALL: lib ÷ zero-allocation floor (TightFloor)",
			"LibCodecRoundTrip_SMALL", "TightFloorRoundTrip_SMALL", ns, "≤ 1.4", atMost(1.4)),
		ratioRow(s, "codec round trip SMALL, handler reads all keys: naive securecookie+msgpack ÷ lib",
			"NaiveCodecRoundTripAll_SMALL", "LibCodecRoundTripAll_SMALL", ns, "≥ 2.2", atLeast(2.2)),
		ratioRow(s, "codec round trip SMALL, handler reads one key: naive ÷ lib",
			"NaiveCodecRoundTrip_SMALL", "LibCodecRoundTrip_SMALL", ns, "≥ 2.5", atLeast(2.5)),
		valueRow("middleware round trip SMALL, session read and changed: allocs/op over a bare handler (lib)",
			s.med("MiddlewareRoundTrip_SMALL_lib", allocs)-s.med("MiddlewareNoop_bare", allocs), "+%.0f", "≤ +5", atMost(5)),
		ratioRow(s, "middleware round trip SMALL: gorilla/sessions ÷ lib",
			"MiddlewareRoundTrip_SMALL_gorilla", "MiddlewareRoundTrip_SMALL_lib", ns, "≥ 12", atLeast(12)),
		ratioRow(s, "parallel speed-up, codec round trip SMALL: lib (serial ÷ parallel)",
			"LibCodecRoundTrip_SMALL", "ParallelCodecRoundTrip_SMALL_lib", ns, "≥ 1.75", atLeast(1.75)),
		ratioRow(s, "codec round trip LARGE: lib ÷ floor (the lower: "+strings.TrimSuffix(largeFloor, "RoundTrip_LARGE")+")",
			"LibCodecRoundTrip_LARGE", largeFloor, ns, "≤ 1.4", atMost(1.4)),

		// Earlier targets still held to.
		ratioRow(s, "decode, third of three keys ÷ primary: lib",
			"KeyRotationDecode_lib_third", "KeyRotationDecode_lib_primary", ns, "≤ 1.1", atMost(1.1)),
		valueRow("untouched request: extra allocs over bare handler",
			s.med("MiddlewareUntouched_lib", allocs)-s.med("MiddlewareUntouched_bare", allocs), "%.0f", "≤ 3", atMost(3)),
		valueRow("SMALL cookie length (name=value): lib",
			s.med("LibCodecEncode_SMALL", cookie), "%.0f B", "≤ 400", atMost(400)),

		// Context for the rows above: information only.
		valueRow("allocs/op, codec round trip SMALL: naive",
			s.med("NaiveCodecRoundTrip_SMALL", allocs), "%.0f", "—", nil),
		valueRow("allocs/op, codec round trip SMALL: gorilla/sessions (gob)",
			s.med("GorillaCodecRoundTrip_SMALL", allocs), "%.0f", "—", nil),
		valueRow("allocs/op, codec round trip SMALL reading all keys: lib",
			s.med("LibCodecRoundTripAll_SMALL", allocs), "%.0f", "—", nil),
		valueRow("allocs/op, round trip SMALL: Floor",
			s.med("FloorRoundTrip_SMALL", allocs), "%.0f", "—", nil),
		valueRow("allocs/op, round trip SMALL: TightFloor",
			s.med("TightFloorRoundTrip_SMALL", allocs), "%.0f", "—", nil),
		ratioRow(s, "codec round trip SMALL: lib ÷ Floor (cipher.NewCTR, allocating)",
			"LibCodecRoundTrip_SMALL", "FloorRoundTrip_SMALL", ns, "—", nil),
		ratioRow(s, "round trip SMALL: TightFloor ÷ Floor",
			"TightFloorRoundTrip_SMALL", "FloorRoundTrip_SMALL", ns, "—", nil),
		ratioRow(s, "codec round trip SMALL: lib ÷ TightFloor with encoding/base64 (earlier runs' floor)",
			"LibCodecRoundTrip_SMALL", "TightFloorStdB64RoundTrip_SMALL", ns, "—", nil),
		ratioRow(s, "round trip SMALL: TightFloor with encoding/base64 ÷ TightFloor",
			"TightFloorStdB64RoundTrip_SMALL", "TightFloorRoundTrip_SMALL", ns, "—", nil),
		ratioRow(s, "round trip LARGE: TightFloor ÷ Floor",
			"TightFloorRoundTrip_LARGE", "FloorRoundTrip_LARGE", ns, "—", nil),
		valueRow("middleware round trip SMALL: allocs/op of the harness alone (recorder, request copy)",
			s.med("MiddlewareNoop_bare", allocs), "%.0f", "—", nil),
		valueRow("middleware round trip SMALL: allocs/op over the codec round trip's (lib; the harness's included)",
			s.med("MiddlewareRoundTrip_SMALL_lib", allocs)-s.med("LibCodecRoundTrip_SMALL", allocs), "+%.0f", "—", nil),
		valueRow("middleware round trip SMALL: the middleware's own allocs/op (less harness and codec round trip)",
			s.med("MiddlewareRoundTrip_SMALL_lib", allocs)-s.med("MiddlewareNoop_bare", allocs)-s.med("LibCodecRoundTrip_SMALL", allocs), "%.0f", "—", nil),
		ratioRow(s, "middleware round trip SMALL: lib ÷ codec round trip",
			"MiddlewareRoundTrip_SMALL_lib", "LibCodecRoundTrip_SMALL", ns, "—", nil),
		ratioRow(s, "middleware round trip SMALL: scs (memstore) ÷ lib",
			"MiddlewareRoundTrip_SMALL_scs", "MiddlewareRoundTrip_SMALL_lib", ns, "—", nil),
		ratioRow(s, "middleware round trip LARGE: gorilla/sessions ÷ lib",
			"MiddlewareRoundTrip_LARGE_gorilla", "MiddlewareRoundTrip_LARGE_lib", ns, "—", nil),
		ratioRow(s, "middleware round trip LARGE: scs (memstore) ÷ lib",
			"MiddlewareRoundTrip_LARGE_scs", "MiddlewareRoundTrip_LARGE_lib", ns, "—", nil),
		ratioRow(s, "decode, third of three keys ÷ primary: securecookie DecodeMulti",
			"KeyRotationDecode_securecookie_third", "KeyRotationDecode_securecookie_primary", ns, "—", nil),
		valueRow("untouched request: extra ns over bare handler",
			s.med("MiddlewareUntouched_lib", ns)-s.med("MiddlewareUntouched_bare", ns), "%.0f ns", "—", nil),
		valueRow("SMALL cookie length (name=value): naive (the lib's payload, no key ID)",
			s.med("NaiveCodecEncode_SMALL", cookie), "%.0f B", "—", nil),
		valueRow("SMALL cookie length (name=value): gorilla/sessions",
			s.med("GorillaCodecEncode_SMALL", cookie), "%.0f B", "—", nil),
		ratioRow(s, "codec round trip LARGE: naive ÷ lib",
			"NaiveCodecRoundTrip_LARGE", "LibCodecRoundTrip_LARGE", ns, "—", nil),
		ratioRow(s, "codec round trip 100 B: lib ÷ Floor",
			"PayloadRoundTrip_100B_lib", "PayloadRoundTrip_100B_floor", ns, "—", nil),
		ratioRow(s, "codec round trip 1 KB: lib ÷ Floor",
			"PayloadRoundTrip_1KB_lib", "PayloadRoundTrip_1KB_floor", ns, "—", nil),
		ratioRow(s, "codec round trip 2 KB: lib ÷ Floor",
			"PayloadRoundTrip_2KB_lib", "PayloadRoundTrip_2KB_floor", ns, "—", nil),
		ratioRow(s, "parallel speed-up ceiling of this machine: integer loop (serial ÷ parallel)",
			"CalibrationSpin", "ParallelCalibrationSpin", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, codec round trip SMALL: naive",
			"NaiveCodecRoundTrip_SMALL", "ParallelCodecRoundTrip_SMALL_naive", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, round trip SMALL: Floor",
			"FloorRoundTrip_SMALL", "ParallelFloorRoundTrip_SMALL", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, round trip SMALL: TightFloor",
			"TightFloorRoundTrip_SMALL", "ParallelTightFloorRoundTrip_SMALL", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, middleware round trip SMALL: lib",
			"MiddlewareRoundTrip_SMALL_lib", "ParallelMiddlewareRoundTrip_SMALL_lib", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, middleware round trip SMALL: gorilla/sessions",
			"MiddlewareRoundTrip_SMALL_gorilla", "ParallelMiddlewareRoundTrip_SMALL_gorilla", ns, "→ 2 on 2 cores", nil),
		ratioRow(s, "parallel speed-up, middleware round trip SMALL: scs",
			"MiddlewareRoundTrip_SMALL_scs", "ParallelMiddlewareRoundTrip_SMALL_scs", ns, "→ 2 on 2 cores", nil),
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func main() {
	quick := flag.Bool("quick", false, "the input is a quick run (one short sample each): say the figures are not measurements")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: ratios [-quick] results.txt")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	s, loads, err := parse(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(s) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results in", flag.Arg(0))
		os.Exit(1)
	}
	n := 0
	for _, units := range s {
		n = max(n, len(units["ns/op"]))
	}
	if *quick {
		fmt.Println("QUICK MODE: one short sample per benchmark; these figures show the harness runs, they measure nothing.")
	}
	fmt.Printf("Ratios of medians over %d interleaved round(s) of one run (%s).\n", n, flag.Arg(0))
	busy := false
	if len(loads) > 0 {
		lo, hi := slices.Min(loads), slices.Max(loads)
		fmt.Printf("1-minute load average before the rounds: %.2f–%.2f on %d CPUs", lo, hi, runtime.NumCPU())
		// The suite itself keeps one or two threads busy.
		if busy = median(loads) > float64(runtime.NumCPU()+1); busy {
			fmt.Print(" — the machine was busy with other work: wall-clock figures are unreliable," +
				" so timing verdicts below use the CPU-time ratio, and rows without one get none")
		}
		fmt.Println(".")
	}
	fmt.Println()
	fmt.Println("| figure | value | rounds (min–max) | CPU-time ratio (rounds) | target | result |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	for _, r := range rows(s) {
		val, result := "n/a", "info"
		if !math.IsNaN(r.value) && !math.IsInf(r.value, 0) {
			val = fmt.Sprintf(r.format, r.value)
		}
		if r.met != nil {
			judged, suffix := r.value, ""
			if busy && r.timed {
				judged, suffix = r.cpuVal, " (CPU time)"
			}
			switch {
			case val == "n/a":
				result = "missing"
			case *quick:
				result = "(quick)"
			case math.IsNaN(judged):
				result = "— (machine busy)"
			case r.met(judged):
				result = "met" + suffix
			default:
				result = "**missed**" + suffix
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.figure, val, dash(r.rng), dash(r.cpu), r.target, result)
	}
}
