//! Publishing findings to Security Hub. (Being written.)
