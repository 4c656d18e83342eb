-- The donors who gave the most, across platforms (one donor_key per e-mail address), by currency.
SELECT donor_key, currency, gift_count, lifetime_net, first_gift_at, last_gift_at, is_recurring
FROM donors
ORDER BY lifetime_net DESC, donor_key
LIMIT 20
