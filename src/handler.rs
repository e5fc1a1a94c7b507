//! The Lambda handler. (Being written.)
