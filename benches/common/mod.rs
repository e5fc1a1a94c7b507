//! What more than one bench prints the same way: the table of requests by operation.

use std::collections::BTreeMap;

/// A Markdown table of requests by operation, as the benches print it: a row per operation (in
/// order), a column per run (`columns`: its name and its requests by operation), headed `corner`.
/// Its last line is the operations' last row, without a newline after it, so a caller may add
/// rows of its own.
pub fn requests_table(corner: &str, columns: &[(&str, &BTreeMap<String, u64>)]) -> String {
    let operations: std::collections::BTreeSet<&String> =
        columns.iter().flat_map(|(_, by)| by.keys()).collect();
    let mut table = format!("| {corner} |");
    for (name, _) in columns {
        table.push_str(&format!(" {name} |"));
    }
    table.push_str("\n|---|");
    table.push_str(&"---:|".repeat(columns.len()));
    for operation in operations {
        table.push_str(&format!("\n| {operation} |"));
        for (_, by) in columns {
            table.push_str(&format!(" {} |", by.get(operation).copied().unwrap_or(0)));
        }
    }
    table
}
