-- Stock path: a store's WooCommerce request budget, and stock reconciliations.
--
-- rate_limit_rps: requests per second all stock-publisher replicas together
-- may send to a WooCommerce store (WooCommerce publishes no limit of its
-- own; the host decides). 0 = no limit. Shopify stores use the cost points
-- their answers report instead.
ALTER TABLE stores ADD COLUMN rate_limit_rps integer NOT NULL DEFAULT 10 CHECK (rate_limit_rps >= 0);

-- A reconciliation: requested by `bridgectl stock reconcile STORE` or by the
-- schedule. Each stock-publisher replica checks the items whose Kafka
-- partition it owns (only it holds their levels and windows): it reads their
-- shop stock, compares it with the sellable value the WMS levels give and
-- corrects the drift through the windows, then adds its partitions to
-- partitions_done. The run is done once every partition that carries a
-- level of the store's mapped skus is in there.
CREATE TABLE stock_reconciliations (
    id              bigserial PRIMARY KEY,
    store_id        text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    source          text NOT NULL DEFAULT 'manual',
    state           text NOT NULL DEFAULT 'requested'
                    CHECK (state IN ('requested', 'running', 'done', 'failed')),
    items_total     bigint,
    items_checked   bigint NOT NULL DEFAULT 0,
    corrections     bigint NOT NULL DEFAULT 0,  -- values found wrong and corrected
    drift_total     bigint NOT NULL DEFAULT 0,  -- sum of |shop - expected| over them
    partitions_done integer[] NOT NULL DEFAULT '{}',
    error           text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX stock_reconciliations_one_open ON stock_reconciliations (store_id)
    WHERE state IN ('requested', 'running');
