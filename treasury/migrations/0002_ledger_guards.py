"""The ledger is append-only and every entry balances, and money records are never deleted:
triggers, so that no code path (the admin, a shell, a bug) can change a posting, leave an
entry unbalanced or lose a payment."""

from django.db import migrations

SQL = """
CREATE FUNCTION treasury_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON treasury_posting
    FOR EACH ROW EXECUTE FUNCTION treasury_ledger_append_only();
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON treasury_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION treasury_ledger_append_only();

-- Money records are never deleted: what references them (without a per-row foreign key
-- check, docs/decisions.md §13) cannot dangle.
CREATE FUNCTION treasury_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER accrual_never_deleted BEFORE DELETE ON treasury_accrual
    FOR EACH STATEMENT EXECUTE FUNCTION treasury_never_deleted();
CREATE TRIGGER payment_never_deleted BEFORE DELETE ON treasury_payment
    FOR EACH STATEMENT EXECUTE FUNCTION treasury_never_deleted();
CREATE TRIGGER batch_never_deleted BEFORE DELETE ON treasury_paymentbatch
    FOR EACH STATEMENT EXECUTE FUNCTION treasury_never_deleted();

-- Checked at commit, once per entry touched: debits equal credits, and there are postings.
CREATE FUNCTION treasury_entry_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off numeric;
BEGIN
    SELECT COALESCE(SUM(debit), 0) - COALESCE(SUM(credit), 0) INTO off
    FROM treasury_posting WHERE entry_id = NEW.entry_id;
    IF off <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not balance (debits - credits = %)', NEW.entry_id, off
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER posting_entry_balances AFTER INSERT ON treasury_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION treasury_entry_balances();
"""

REVERSE = """
DROP TRIGGER batch_never_deleted ON treasury_paymentbatch;
DROP TRIGGER payment_never_deleted ON treasury_payment;
DROP TRIGGER accrual_never_deleted ON treasury_accrual;
DROP FUNCTION treasury_never_deleted();
DROP TRIGGER posting_entry_balances ON treasury_posting;
DROP FUNCTION treasury_entry_balances();
DROP TRIGGER ledger_entry_append_only ON treasury_ledgerentry;
DROP TRIGGER posting_append_only ON treasury_posting;
DROP FUNCTION treasury_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("treasury", "0001_treasury")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
