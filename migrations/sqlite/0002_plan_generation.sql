-- A counter every change to providers, members or spans increments in the same transaction,
-- so that caches of that data (payer::cache) know when to drop what they hold.
CREATE TABLE plan_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO plan_generation (id, generation) VALUES (1, 0);
