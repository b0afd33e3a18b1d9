fn main() {
    println!(
        "{}",
        serde_json::to_string_pretty(&*server::openapi::doc()).unwrap()
    );
}
