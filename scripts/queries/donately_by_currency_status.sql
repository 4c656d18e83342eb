-- Donately: donations, amounts and donors per currency and status, from the current versions.
SELECT currency, status, count(*) AS donations, sum(amount) AS amount, count(DISTINCT person_id) AS donors
FROM donately_donations_current
GROUP BY ALL
ORDER BY currency, status;
