//! Natural-language understanding: intent classification and entity extraction.
