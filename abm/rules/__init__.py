"""Pure rules of the model: functions of explicit inputs, on numpy arrays; no Mesa, no I/O."""
