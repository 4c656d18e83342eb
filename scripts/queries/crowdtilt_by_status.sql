-- Crowdtilt payments per status: how many, how much (exact), and the fees, in the current state.
SELECT status, currency, count(*) AS payments, sum(amount) AS amount,
       sum(user_fee_amount) / 100 AS user_fees, sum(admin_fee_amount) / 100 AS admin_fees
FROM crowdtilt_payments_current
GROUP BY ALL
ORDER BY payments DESC
