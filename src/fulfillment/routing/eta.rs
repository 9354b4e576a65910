//! Pure ETA: when will the courier reach each remaining stop?
