package demo

// failure is one way an attempt fails: the error code a handler reports,
// its message, and the frame it was thrown from.
type failure struct {
	Code, Message, Frame string
}

// Retryable ones, by the guide's default policy.
var (
	networkTimeout = failure{"NETWORK_ERROR", "Network timeout", "HttpClient.request (/src/lib/http.ts:88)"}
	connRefused    = failure{"NETWORK_ERROR", "connect ECONNREFUSED 10.0.4.21:587", "SmtpTransport.connect (/src/lib/email.ts:31)"}
	rateLimited    = failure{"RATE_LIMIT", "Google Calendar API rate limit exceeded (429)", "GoogleCalendarClient.listEvents (/src/lib/calendar-sync.ts:77)"}
	timedOut       = failure{"TIMEOUT", "Execution time limit exceeded", "JobWorker.runWithTimeout (/src/lib/job-queue.ts:212)"}
)

// Never retried.
var (
	authFailed       = failure{"AUTH_ERROR", "Token refresh failed: Invalid refresh token", "GoogleCalendarClient.refreshToken (/src/lib/calendar-sync.ts:45)"}
	templateMissing  = failure{"NOT_FOUND", "Report template not found: quarterly_summary_v2", "TemplateStore.load (/src/lib/reports.ts:22)"}
	badRecipient     = failure{"INVALID_PARAMS", "Invalid recipient address: jane.doe@@acme.io", "EmailService.validate (/src/lib/email.ts:58)"}
	badRow           = failure{"VALIDATION_ERROR", `Row 1842: invalid date "2025-13-01" in column closeDate`, "CsvParser.parseRow (/src/lib/import.ts:41)"}
	warehouseMissing = failure{"NOT_FOUND", "Warehouse not found: wh_north", "WarehouseRepo.get (/src/lib/inventory.ts:19)"}
)

// entryPoints are where each job type's handler starts, the bottom frame
// of its stacks.
var entryPoints = map[string]string{
	CalendarSync:            "CalendarSyncService.sync (/src/lib/calendar-sync.ts:120)",
	MetricCalculation:       "MetricService.calculate (/src/lib/metrics.ts:88)",
	ReportGeneration:        "ReportService.generate (/src/lib/reports.ts:64)",
	EmailSending:            "EmailService.send (/src/lib/email.ts:142)",
	DataImport:              "ImportService.processChunk (/src/lib/import.ts:97)",
	InventoryReconciliation: "InventoryService.reconcile (/src/lib/inventory.ts:53)",
}

// stack is the stack trace f leaves on a job of typ, in the guide's shape.
func (f failure) stack(typ string) string {
	return "Error: " + f.Message + "\n  at " + f.Frame + "\n  at " + entryPoints[typ]
}
