package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/internal/cmdutil"
	"github.com/jobctl/jobctl/internal/cron"
	"github.com/jobctl/jobctl/internal/render"
	"github.com/jobctl/jobctl/internal/store"
)

// NewCmdSchedule builds `jobctl schedule add|list|rm`.
func NewCmdSchedule(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Recurring jobs: add, list and remove cron schedules",
		Example: `  jobctl schedule add daily-revenue --type MetricCalculation --cron '0 0 * * *'
  jobctl schedule list
  jobctl schedule rm daily-revenue`,
		Long: `Recurring jobs are enqueued by the running workers: at each tick exactly one
of them enqueues the job, however many run. Ticks missed while no worker ran
are not replayed: the schedule fires once and moves to its next tick.`,
	}
	cmd.AddCommand(newCmdScheduleAdd(f), newCmdScheduleList(f), newCmdScheduleRemove(f))
	return parentCommand(cmd)
}

func newCmdScheduleAdd(f *cmdutil.Factory) *cobra.Command {
	var (
		s        store.Schedule
		data     string
		priority string
	)
	cmd := &cobra.Command{
		Use:   "add NAME --type TYPE --cron EXPR",
		Short: "Add a recurring job",
		Example: `  jobctl schedule add daily-revenue --type MetricCalculation --cron '0 0 * * *' --data '{"metricType":"daily_revenue"}'
  jobctl schedule add inventory --type InventoryReconciliation --cron '30 6 * * MON-FRI' --tz Europe/Berlin`,
		Args: exactArgs(1, "a schedule NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Name = args[0]
			if s.Type == "" {
				return cmdutil.FlagErrorf("schedule add needs --type")
			}
			if s.Cron == "" {
				return cmdutil.FlagErrorf("schedule add needs --cron, e.g. --cron '0 0 * * *'")
			}
			next, err := cron.NextTick(s.Cron, s.Timezone, f.Now())
			if err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			s.NextRunAt = next
			if s.Data, err = readData(data, f.IO.In); err != nil {
				return err
			}
			if priority != "" {
				if s.Priority, err = store.ParsePriority(priority); err != nil {
					return &cmdutil.FlagError{Err: err}
				}
			}
			if s.MaxDataBytes, err = dataLimit(f); err != nil {
				return err
			}
			if err := s.Validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			st, err := f.StoreCreate(cmd.Context())
			if err != nil {
				return err
			}
			err = st.AddSchedule(cmd.Context(), &s, f.ActorName())
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("schedule %s already exists; remove it first with `jobctl schedule rm %s`", s.Name, s.Name)
			}
			if err != nil {
				return err
			}
			// What was done is a message, not data: stderr, as gh says it.
			f.IO.Warnf("%s\n", fmt.Sprintf("Added schedule %s (%s %s): next run %s", s.Name, s.Cron, s.Timezone, next.Format(time.RFC3339)))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&s.Type, "type", "", "job type to enqueue")
	fl.StringVar(&s.Cron, "cron", "", "cron expression: minute hour day-of-month month day-of-week, or @daily, @hourly…")
	fl.StringVar(&s.Timezone, "tz", "UTC", "IANA time zone the cron expression is read in")
	fl.StringVar(&data, "data", "", "job input: JSON, @FILE or @-")
	fl.StringVar(&priority, "priority", "", "LOW, NORMAL (default), HIGH or CRITICAL")
	return cmd
}

func newCmdScheduleList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List recurring jobs with their next and last runs",
		Example: `  jobctl schedule list
  jobctl schedule list -o json`,
		Args:        cobra.NoArgs,
		Annotations: cmdutil.FormatsAnnotation(cmdutil.DataFormats...),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := f.Format()
			if err != nil {
				return err
			}
			st, err := f.Store(cmd.Context())
			if err != nil {
				return err
			}
			ss, err := st.ListSchedules(cmd.Context())
			if err != nil {
				return err
			}
			if format != render.FormatTable && format != render.FormatWide {
				return f.IO.Encode(format, render.SchedulesJSON(ss))
			}
			if len(ss) == 0 {
				f.IO.Warnf("No schedules\n") // a note, not a row: stderr
				return nil
			}
			rows := make([][]string, len(ss))
			for i, s := range ss {
				last := "-"
				if s.LastRunAt != nil {
					last = f.IO.TimeCell(*s.LastRunAt)
				}
				rows[i] = []string{render.Inert(s.Name), render.Inert(s.Type), render.Inert(s.Cron), render.Inert(s.Timezone),
					f.IO.TimeCell(s.NextRunAt), last, orDash(render.Inert(s.LastJobID)), render.Inert(compactJSON(s.Data))}
			}
			f.IO.Table([]string{"NAME", "TYPE", "SCHEDULE", "TZ", "NEXT RUN", "LAST RUN", "LAST JOB", "DATA"}, rows)
			return nil
		},
	}
}

func newCmdScheduleRemove(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove a recurring job (jobs it already enqueued stay)",
		Example: `  jobctl schedule rm daily-revenue`,
		Args:    exactArgs(1, "a schedule NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.Store(cmd.Context())
			if err != nil {
				return err
			}
			err = st.RemoveSchedule(cmd.Context(), args[0], f.ActorName())
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no schedule named %s; see `jobctl schedule list`", args[0])
			}
			if err != nil {
				return err
			}
			f.IO.Warnf("Removed schedule %s\n", args[0])
			return nil
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "-"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
