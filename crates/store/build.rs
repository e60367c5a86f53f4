// `sqlx::migrate!` embeds the migration files at compile time; without this a new migration
// does not rebuild the crate (sqlx's documentation recommends it).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
