-- Revenue per campaign per month (DuckDB): what was paid, what was refunded, and the net, per
-- currency, over the current version of every transaction. Refunds are counted by their absolute
-- amount, whichever sign the API gives them.
SELECT
  fundraiser_name                                                         AS campaign,
  strftime(date, '%Y-%m')                                                 AS month,
  amount_currency                                                         AS currency,
  count(*) FILTER (WHERE type = 'charge')                                 AS charges,
  coalesce(sum(amount_total_paid) FILTER (WHERE type = 'charge'), 0)      AS paid,
  coalesce(sum(abs(amount_total_paid)) FILTER (WHERE type = 'refund'), 0) AS refunded,
  paid - refunded                                                         AS net
FROM transactions_current
WHERE status <> 'pending'
GROUP BY ALL
ORDER BY month DESC, net DESC
LIMIT 15
