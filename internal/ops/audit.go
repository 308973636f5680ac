package ops

import (
	"strings"

	"github.com/jobctl/jobctl/internal/store"
)

// AuditAction is an action the audit log records: its name in the log and
// the word an operator types for it (jobctl audit --action, the API's
// ?action=).
type AuditAction struct {
	Name string // JOB_RETRY, as the log names it
	Word string // retry
}

// AuditActions are every action the audit log records, in the order the
// filters list them. The CLI, the API and the pages all read this list.
var AuditActions = []AuditAction{
	{store.ActionRetry, "retry"},
	{store.ActionCancel, "cancel"},
	{store.ActionStart, "start"},
	{store.ActionDelete, "delete"},
	{store.ActionPurge, "purge"},
	{store.ActionArchive, "archive"},
	{store.ActionRestore, "restore"},
	{store.ActionScheduleAdd, "schedule-add"},
	{store.ActionScheduleRemove, "schedule-remove"},
	{store.ActionUserAdd, "user-add"},
	{store.ActionUserRemove, "user-rm"},
	{store.ActionUserPasswd, "user-passwd"},
	{store.ActionTokenCreate, "token-create"},
	{store.ActionTokenRevoke, "token-revoke"},
}

// AuditActionNames are the log's names of AuditActions.
func AuditActionNames() []string {
	out := make([]string, len(AuditActions))
	for i, a := range AuditActions {
		out[i] = a.Name
	}
	return out
}

// ParseAuditAction takes an action as an operator names it, in any case:
// its word (retry, user-rm; user.rm and user_rm too) or the log's name
// (JOB_RETRY, USER_REMOVE). It returns the log's name.
func ParseAuditAction(s string) (string, error) {
	t := strings.TrimSpace(s)
	word := strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(t))
	name := strings.ToUpper(strings.ReplaceAll(word, "-", "_"))
	for _, a := range AuditActions {
		if t != "" && (a.Word == word || a.Name == name) {
			return a.Name, nil
		}
	}
	words := make([]string, len(AuditActions))
	for i, a := range AuditActions {
		words[i] = a.Word
	}
	return "", invalid("action", "{action}: unknown action %q (want %s or %s, or the log's name such as JOB_RETRY)",
		s, strings.Join(words[:len(words)-1], ", "), words[len(words)-1])
}
