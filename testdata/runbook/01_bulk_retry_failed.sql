-- Move all failed calendar sync jobs back to pending
UPDATE "Job"
SET status = 'PENDING',
    attempts = 0,
    "scheduledFor" = NOW()
WHERE type = 'CalendarSync'
  AND status = 'FAILED'
  AND attempts < 5;
