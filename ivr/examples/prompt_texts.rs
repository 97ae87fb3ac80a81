//! Prints `lang<TAB>name<TAB>text` for every prompt text in `<dir>/prompts/texts.toml`, for
//! `scripts/make-prompts.sh`: `cargo run -p hotline-ivr --example prompt_texts -- dialplans`.

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "dialplans".into());
    match hotline_ivr::PromptTexts::load(std::path::Path::new(&dir)) {
        Ok(texts) => {
            for (name, lang, text) in texts.entries() {
                println!("{lang}\t{name}\t{}", text.replace(['\t', '\n'], " "));
            }
        }
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            std::process::exit(1);
        }
    }
}
