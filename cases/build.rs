//! `sqlx::migrate!` embeds cases/migrations at compile time; without this a new migration file
//! would not rebuild the crate (the layout `sqlx migrate build-script` generates).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
