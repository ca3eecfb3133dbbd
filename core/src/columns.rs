//! How a query row becomes one of our structs: [`from_columns!`] reads the row's columns,
//! in order, into the fields it names, each by its type's `FromSql`. One place for the
//! "column 0 into `id`, column 1 into `name`, …" that every list and `get` needs, so a
//! SELECT and its struct are read side by side: the field list follows the column list.

/// `from_columns!(row => Key { id, number, name })` is
/// `Key { id: row.get(0)?, number: row.get(1)?, name: row.get(2)? }` (Rust evaluates a
/// struct expression's fields in the order written). Use it inside a function returning
/// `rusqlite::Result`; a field whose value is computed otherwise is not for this macro.
/// (The `=>` keeps rustfmt from spreading the field list one name a line.)
macro_rules! from_columns {
    ($row:expr => $ty:ident { $($field:ident),+ $(,)? }) => {{
        let row: &rusqlite::Row = $row;
        let mut column = 0usize..;
        $ty {
            $($field: row.get(column.next().expect("a RangeFrom never ends"))?,)+
        }
    }};
}

pub(crate) use from_columns;

#[cfg(test)]
mod tests {
    use crate::store::Role;

    #[derive(Debug, PartialEq)]
    struct Row3 {
        id: i64,
        name: String,
        note: Option<String>,
        role: Role,
    }

    fn read(sql: &str) -> rusqlite::Result<Row3> {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.query_row(sql, [], |r| {
            Ok(from_columns!(r => Row3 { id, name, note, role }))
        })
    }

    #[test]
    fn columns_are_read_into_the_fields_in_the_order_named() {
        let row = read("SELECT 7, 'Bērziņš', NULL, 'operator'").unwrap();
        assert_eq!(
            row,
            Row3 {
                id: 7,
                name: "Bērziņš".into(),
                note: None,
                role: Role::Operator
            }
        );
        // A column of the wrong type is the usual rusqlite error, not a silent default.
        assert!(read("SELECT 'seven', 'x', NULL, 'admin'").is_err());
    }

    #[test]
    fn a_role_no_version_wrote_reads_as_the_least_role() {
        assert_eq!(
            read("SELECT 1, 'x', NULL, 'superuser'").unwrap().role,
            Role::Viewer
        );
        assert_eq!(
            read("SELECT 1, 'x', NULL, ' Admin'").unwrap().role,
            Role::Admin
        );
    }
}
