-- Net raised per campaign and month, every platform together (campaign_monthly: completed and
-- refunded gifts, less refunds; pending and rejected gifts left out), newest month first.
SELECT month, campaign_key, campaign_name, currency, gross, refunds, net, gift_count, donor_count
FROM campaign_monthly
ORDER BY month DESC, net DESC
