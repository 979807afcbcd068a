-- One live release at a time: a second /release of the same version while
-- the first run is under way would pass the checks again (the release is
-- not published yet) and run the Release workflow twice.
CREATE UNIQUE INDEX operations_one_live_release ON operations (kind)
    WHERE kind = 'release'
      AND state IN ('requested', 'awaiting_approval', 'approved', 'dispatched', 'running');
