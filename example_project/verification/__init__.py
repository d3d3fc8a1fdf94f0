"""Phone-number verification: a site's most common reason to send an SMS."""
