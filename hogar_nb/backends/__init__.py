"""Optional engines beyond the embedded one (a Ray Serve backend is planned); none yet."""
