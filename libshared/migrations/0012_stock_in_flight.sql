-- stock-publisher: the in-flight order quantities (docs/stock-path.md).

-- Only rows in state 'sent' carry in-flight quantities, and the publisher
-- reads them every second (all stores) and at every flush (one store). Most
-- rows of a shop that has run a while are past 'sent': a partial index keeps
-- both reads on the few rows that qualify instead of scanning the table.
CREATE INDEX ingested_orders_in_flight ON ingested_orders (store_id) WHERE state = 'sent';

-- The in-flight quantity the sent value subtracted. A publisher that starts
-- (or takes a partition over) compares it with the in-flight totals now and
-- recomputes every item whose orders moved while nobody was watching.
-- NULL (values sent before this column) counts as 0.
ALTER TABLE stock_sent ADD COLUMN in_flight integer;
