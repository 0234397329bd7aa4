package lease

// AcquireRequest asks for the lease of DatabaseKey for HolderID.
type AcquireRequest struct {
	DatabaseKey string
	HolderID    string
	TTLMs       uint64
	// Term is the replication term to stamp; callers pass DefaultTerm when
	// they have none.
	Term uint64
}

// RefreshRequest extends the lease of one generation.
type RefreshRequest struct {
	DatabaseKey string
	HolderID    string
	Generation  uint64
	TTLMs       uint64
	// CurrentTerm, when non-zero, fences a lease whose term is behind it.
	CurrentTerm uint64
	// Term, when non-zero, is the term the caller's lease was acquired at.
	// With CurrentTerm it lets the fence refuse before any storage I/O; it
	// must also match the stored lease.
	Term uint64
}

// ReleaseRequest gives one generation up.
type ReleaseRequest struct {
	DatabaseKey string
	HolderID    string
	Generation  uint64
}

// Snapshot is a lease read back together with its condition at read time.
type Snapshot struct {
	Lease       Lease
	State       State
	ExpiresInMs uint64
	ReadAtMs    uint64
}

func (s *Service) validateAcquire(r AcquireRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	if err := s.limits.ValidateTTL(r.TTLMs); err != nil {
		return err
	}
	return ValidatePositive("term", r.Term)
}

func (s *Service) validateRefresh(r RefreshRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	if err := ValidatePositive("generation", r.Generation); err != nil {
		return err
	}
	if err := s.limits.ValidateTTL(r.TTLMs); err != nil {
		return err
	}
	if r.CurrentTerm != 0 {
		if err := ValidatePositive("current_term", r.CurrentTerm); err != nil {
			return err
		}
	}
	if r.Term != 0 {
		return ValidatePositive("term", r.Term)
	}
	return nil
}

func (s *Service) validateRelease(r ReleaseRequest) error {
	if err := s.limits.ValidateKey(r.DatabaseKey); err != nil {
		return err
	}
	if err := s.limits.ValidateHolder(r.HolderID); err != nil {
		return err
	}
	return ValidatePositive("generation", r.Generation)
}
