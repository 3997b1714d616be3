//! One module per subcommand: the glue between resolved arguments and the library.

pub mod advise;
pub mod analyse;
pub mod bench;
pub mod compare;
pub mod detect;
pub mod kernel;
pub mod profile;
pub mod report;
pub mod worker;
