//! Soft deletion, as keys and persons share it: a deleted record keeps its row with
//! `deleted_at` set, so the key log and the audit trail still name it, and restoring
//! clears it. Never a hard DELETE of either, and no audit row here (the caller writes it).

use rusqlite::{params, Connection, Transaction};

use crate::error::{Error, Result};

/// A record that can be soft-deleted.
pub(crate) trait SoftDeleted: Sized {
    /// Its table (a constant, the only text that reaches the SQL).
    const TABLE: &'static str;
    /// How errors name it ("key", "person").
    const WHAT: &'static str;
    fn get_tx(conn: &Connection, id: i64) -> Result<Self>;
    fn deleted_at(&self) -> Option<i64>;
    /// How errors name this one (a key's number, a person's name and code).
    fn error_label(&self) -> String;
}

/// Soft-deletes record `id` inside `tx` unless it already is or `refuse` refuses it;
/// returns it before and after.
pub(crate) fn delete_tx<T: SoftDeleted>(
    tx: &Transaction,
    now: i64,
    id: i64,
    refuse: impl FnOnce(&T) -> Result<()>,
) -> Result<(T, T)> {
    let before = T::get_tx(tx, id)?;
    if before.deleted_at().is_some() {
        return Err(Error::NotFound {
            what: T::WHAT,
            id: before.error_label(),
        });
    }
    refuse(&before)?;
    tx.execute(
        &format!(
            "UPDATE {} SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1",
            T::TABLE
        ),
        params![id, now],
    )?;
    Ok((before, T::get_tx(tx, id)?))
}

/// Brings back soft-deleted record `id` inside `tx`, refused when it is not deleted;
/// returns it before and after.
pub(crate) fn restore_tx<T: SoftDeleted>(tx: &Transaction, now: i64, id: i64) -> Result<(T, T)> {
    let before = T::get_tx(tx, id)?;
    if before.deleted_at().is_none() {
        return Err(Error::NotDeleted {
            what: T::WHAT,
            id: before.error_label(),
        });
    }
    tx.execute(
        &format!(
            "UPDATE {} SET deleted_at = NULL, updated_at = ?2 WHERE id = ?1",
            T::TABLE
        ),
        params![id, now],
    )?;
    Ok((before, T::get_tx(tx, id)?))
}
