//! The `dbdeck` binary: parse the command line and hand it to the CLI door.

use clap::Parser;

fn main() {
    let cli = dbdeck::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime");
    let code = runtime.block_on(dbdeck::cli::run(cli));
    std::process::exit(code);
}
