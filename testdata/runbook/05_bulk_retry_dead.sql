UPDATE "Job"
SET status = 'PENDING', attempts = 0
WHERE status = 'DEAD'
  AND type = 'CalendarSync'
  AND "createdAt" > NOW() - INTERVAL '7 days';
