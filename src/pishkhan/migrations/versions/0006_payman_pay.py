"""Payman pay in one round trip on PostgreSQL: the ``payman_pay`` function.

``POST /v1/payman/pay`` on PostgreSQL calls this function as one autocommitted statement
(``pishkhan.providers.payman.pgpay``): it locks the mandate row, checks every rule that depends
on the database, debits the deposit, claims the trace id, writes the two ledger entries and
moves the counters, in one transaction with no network round trip under the row lock. The
rules that depend on process state (the merchant's banks, the sandbox bank switches, the cut-off
windows, forced outcomes, ``pay_id``/``commission_amount``) are decided in Python: the caller
names the banks whose pays must take the Python path (``p_defer_banks``), and the function
answers ``DEFER`` for them before changing anything. SQLite keeps the Python transaction
(``pishkhan.providers.payman.payments.pay``), which gives the same answers and states.

Answers (``o_code``): ``OK`` (``o_reference``, ``o_batch``), a Payman error code with nothing
written, ``003`` (a ``BALANCE_FAILED`` transaction recorded under the trace id), ``DEFER``. A
trace id claimed by a concurrent pay that committed first raises ``payman:2049`` (everything
rolled back), as does ``payman:2000`` when no free reference id was drawn.

Revision ID: 0006_payman_pay
Revises: 0005_pendar_issuance
"""

from __future__ import annotations

from alembic import op

revision = "0006_payman_pay"
down_revision = "0005_pendar_issuance"
branch_labels = None
depends_on = None

SIGNATURE = (
    "text, bigint, text, bigint, text, timestamptz, timestamptz, date, text, text, bigint, "
    "bigint, text[], text[], text[], text[]"
)

# Every timestamp arrives from the caller (the sandbox clock); intervals are in hours, never in
# days, so that the session's time zone cannot move them (Python's timedelta(days=30)).
FUNCTION = """
CREATE OR REPLACE FUNCTION payman_pay(
    p_payman_id text,
    p_customer_id bigint,
    p_trace_id text,
    p_amount bigint,
    p_description text,
    p_client_date timestamptz,
    p_now timestamptz,
    p_today date,
    p_month text,
    p_reference text,
    p_epoch_seconds bigint,
    p_batch_base bigint,
    p_banks text[],
    p_settlement text[],
    p_payment_banks text[],
    p_defer_banks text[],
    OUT o_code text,
    OUT o_reference text,
    OUT o_batch bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
    m record;
    v_bank int;
    v_day_count bigint;
    v_day_amount bigint;
    v_month_count bigint;
    v_status text := 'SUCCEED';
    v_error text;
    v_txn bigint;
    v_attempt int := 0;
    v_micros text;
BEGIN
    SELECT mm.id, mm.customer_id, mm.bank_code, mm.status, mm.start_date, mm.expiration_date,
           mm.deposit_iban, mm.deposit_number, mm.max_amount, mm.max_daily_count,
           mm.max_monthly_count, mm.daily_max_amount, mm.day_key, mm.day_count, mm.day_amount,
           mm.month_key, mm.month_count, d.status AS deposit_status
      INTO m
      FROM payman_mandates AS mm
      LEFT OUTER JOIN world_deposits AS d ON d.iban = mm.deposit_iban
     WHERE mm.payman_id = p_payman_id
       FOR UPDATE OF mm;
    IF NOT FOUND THEN
        o_code := '2014'; RETURN;
    END IF;
    IF m.customer_id <> p_customer_id THEN
        o_code := '2055'; RETURN;
    END IF;
    v_bank := array_position(p_banks, m.bank_code::text);
    IF v_bank IS NULL OR m.bank_code = ANY (p_defer_banks) THEN
        o_code := 'DEFER'; RETURN;
    END IF;
    IF m.status = 'DEACTIVE' THEN
        o_code := '2058'; RETURN;
    END IF;
    IF m.status = 'CANCELLED' THEN
        o_code := '2154'; RETURN;
    END IF;
    IF m.status = 'EXPIRED' OR (m.status = 'ACTIVE' AND m.expiration_date <= p_now) THEN
        o_code := '2006'; RETURN;
    END IF;
    IF m.status <> 'ACTIVE' THEN
        o_code := '2010'; RETURN;
    END IF;
    IF p_now < m.start_date THEN
        o_code := '2005'; RETURN;
    END IF;
    IF p_client_date IS NOT NULL THEN
        IF p_client_date < m.start_date - interval '10 minutes' THEN
            o_code := '2059'; RETURN;
        END IF;
        IF p_client_date > m.expiration_date THEN
            o_code := '2060'; RETURN;
        END IF;
        IF p_client_date < p_now - interval '720 hours' THEN
            o_code := '2206'; RETURN;
        END IF;
        IF p_client_date > p_now + interval '24 hours' THEN
            o_code := '2012'; RETURN;
        END IF;
    END IF;
    -- After the row lock, with a fresh snapshot: a pay of this trace id that committed first.
    PERFORM 1 FROM payman_transactions AS t
     WHERE t.customer_id = p_customer_id AND t.trace_id = p_trace_id;
    IF FOUND THEN
        o_code := '2049'; RETURN;
    END IF;
    IF m.day_key IS NOT DISTINCT FROM p_today THEN
        v_day_count := m.day_count;
        v_day_amount := m.day_amount;
    ELSE
        v_day_count := 0;
        v_day_amount := 0;
    END IF;
    v_month_count := CASE WHEN m.month_key IS NOT DISTINCT FROM p_month
                          THEN m.month_count ELSE 0 END;
    IF m.max_amount IS NOT NULL AND p_amount > m.max_amount THEN
        o_code := '2062'; RETURN;
    END IF;
    IF v_day_count >= m.max_daily_count THEN
        o_code := '2003'; RETURN;
    END IF;
    IF m.max_monthly_count IS NOT NULL AND v_month_count >= m.max_monthly_count THEN
        o_code := '2004'; RETURN;
    END IF;
    IF m.daily_max_amount IS NOT NULL THEN
        IF v_day_amount >= m.daily_max_amount THEN
            o_code := '29003'; RETURN;
        END IF;
        IF v_day_amount + p_amount > m.daily_max_amount THEN
            o_code := '2144'; RETURN;
        END IF;
    END IF;
    IF m.deposit_status IS NULL THEN
        o_code := '10110'; RETURN;
    END IF;
    IF m.deposit_status <> 'ACTIVE' THEN
        o_code := '004'; RETURN;
    END IF;

    UPDATE world_deposits SET balance = balance - p_amount
     WHERE iban = m.deposit_iban AND balance >= p_amount;
    IF NOT FOUND THEN
        v_status := 'BALANCE_FAILED';
        v_error := '003';
    END IF;

    o_batch := p_batch_base + v_bank;
    o_reference := p_reference;
    LOOP
        -- No conflict target: a taken trace id (or reference id) inserts nothing, raises nothing.
        INSERT INTO payman_transactions (
            customer_id, mandate_id, payman_id, trace_id, reference_id, batch_id, amount,
            commission_amount, description, pay_id, status, error_code, transaction_type,
            source_bank, source_iban, source_deposit, destination_bank, destination_deposit,
            client_date, created_at, updated_at)
        VALUES (
            p_customer_id, m.id, p_payman_id, p_trace_id, o_reference, o_batch, p_amount,
            0, p_description, NULL, v_status, v_error,
            CASE WHEN m.bank_code = ANY (p_payment_banks) THEN 'PAYMAN_PAYMENT' ELSE 'NORMAL' END,
            m.bank_code, m.deposit_iban, m.deposit_number, m.bank_code, p_settlement[v_bank],
            p_client_date, p_now, p_now)
        ON CONFLICT DO NOTHING
        RETURNING id INTO v_txn;
        EXIT WHEN v_txn IS NOT NULL;
        PERFORM 1 FROM payman_transactions AS t
         WHERE t.customer_id = p_customer_id AND t.trace_id = p_trace_id;
        IF FOUND THEN
            -- A concurrent pay of this trace id committed first: nothing of this one stays.
            RAISE EXCEPTION 'payman:2049';
        END IF;
        v_attempt := v_attempt + 1;
        IF v_attempt >= 8 THEN
            RAISE EXCEPTION 'payman:2000';
        END IF;
        -- The reference drawn again, further away on each attempt (payments._reference).
        v_micros := (p_epoch_seconds::numeric * 1000000
                     + floor(random()::numeric * (1000000::numeric * 1000::numeric ^ v_attempt))
                    )::numeric(1000, 0)::text;
        o_reference := CASE WHEN length(v_micros) < 20 THEN lpad(v_micros, 20, '0')
                            ELSE v_micros END;
    END LOOP;
    IF v_error IS NOT NULL THEN
        o_code := v_error; RETURN;
    END IF;

    -- Double entry (payman.ledger): the deposit is debited, the merchant's account credited.
    INSERT INTO payman_ledger_entries (transaction_id, account, amount, kind, at) VALUES
        (v_txn, 'deposit:' || m.deposit_iban, -p_amount, 'PAY', p_now),
        (v_txn, 'merchant:' || p_customer_id || ':' || m.bank_code, p_amount, 'PAY', p_now);
    UPDATE payman_mandates
       SET day_key = p_today, day_count = v_day_count + 1, day_amount = v_day_amount + p_amount,
           month_key = p_month, month_count = v_month_count + 1
     WHERE id = m.id;
    o_code := 'OK';
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS payman_pay({SIGNATURE})")
