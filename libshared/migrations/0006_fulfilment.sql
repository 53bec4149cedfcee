-- fulfilment-reporter: per-store rules for returns and fulfilments.

-- Return reason codes (as the WMS sends them in wms.fulfilment.v1) whose
-- refund includes the order's shipping. A code not listed here refunds the
-- returned lines only.
CREATE TABLE return_reason_rules (
    store_id         text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    reason_code      text NOT NULL CHECK (reason_code <> ''),
    refund_shipping  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (store_id, reason_code)
);

-- Per-store fulfilment options beyond the stores table. No row = defaults.
CREATE TABLE fulfilment_settings (
    store_id         text PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
    -- Shopify fulfillmentCreate / fulfillmentTrackingInfoUpdate notifyCustomer
    notify_customer  boolean NOT NULL DEFAULT true
);
