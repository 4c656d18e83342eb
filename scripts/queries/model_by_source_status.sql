-- Every gift and refund of every platform, per source, kind and status: how many and how much
-- (refunds are negative, so gifts plus refunds is what stayed).
SELECT source, currency, kind, status, count(*) AS n, sum(amount) AS amount
FROM donations
GROUP BY source, currency, kind, status
ORDER BY source, currency, kind, status
