"""The unified ATS model, independent of storage and of any ATS: model names, ids and (later) API shapes."""
