package web

import (
	"github.com/labstack/echo/v5"
)

// routes registers every route of the server, in one place, each with the access it
// demands. The access table is also what the authorization test walks.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/health", s.health)
	e.GET("/api/v1/health", s.health)
	s.access = map[string]access{}

	api := e.Group("/api/v1")
	add := func(method, path string, h echo.HandlerFunc, a access) {
		s.access[method+" /api/v1"+path] = a
		switch a {
		case public:
			api.Add(method, path, h)
		case member:
			api.Add(method, path, h, s.requireSetup, s.authenticate)
		case admin:
			api.Add(method, path, h, s.requireSetup, s.authenticate, requireAdmin)
		}
	}

	add("POST", "/setup", s.setupFirst, public)
	add("POST", "/auth/login", s.requireSetupThen(s.login), public)
	add("POST", "/auth/logout", s.logout, member)
	add("GET", "/me", s.me, member)
	add("POST", "/me/password", s.changePassword, member)

	add("GET", "/users", s.listUsers, member)
	add("POST", "/users", s.createUser, admin)
	add("PATCH", "/users/:id", s.updateUser, admin)
	add("DELETE", "/users/:id", s.deleteUser, admin)

	add("GET", "/tokens", s.listTokens, member)
	add("POST", "/tokens", s.createToken, member)
	add("DELETE", "/tokens/:id", s.revokeToken, member)

	add("GET", "/accounts", s.listAccounts, member)
	add("POST", "/accounts", s.createAccount, admin)
	add("DELETE", "/accounts/:id", s.deleteAccount, admin)
	add("POST", "/accounts/:id/reactivate", s.reactivateAccount, admin)
	add("POST", "/accounts/reset-locks", s.resetAccountLocks, admin)

	add("GET", "/campaigns", s.listCampaigns, member)
	add("POST", "/campaigns", s.createCampaign, admin)
	add("POST", "/campaigns/preview", s.previewCampaign, member)
	add("GET", "/campaigns/:id", s.getCampaign, member)
	add("PATCH", "/campaigns/:id", s.updateCampaign, admin)
	add("DELETE", "/campaigns/:id", s.deleteCampaign, admin)
	add("POST", "/campaigns/:id/runs", s.startRun, member)
	add("GET", "/campaigns/:id/runs", s.listRuns, member)
	add("GET", "/runs/:id", s.getRun, member)
	add("GET", "/runs/:id/events", s.runEvents, member)
	add("POST", "/runs/:id/cancel", s.cancelRun, member)

	add("GET", "/campaigns/:id/opportunities", s.campaignOpportunities, member)
	add("GET", "/campaigns/:id/conversations", s.campaignConversations, member)
	add("GET", "/opportunities", s.listOpportunities, member)
	add("PATCH", "/opportunities/:id", s.updateOpportunity, member)
	add("POST", "/opportunities/:id/feedback", s.opportunityFeedback, member)
	add("GET", "/conversations/:id", s.getConversation, member)

	add("GET", "/integrations", s.listIntegrations, member)
	add("GET", "/integrations/:kind", s.getIntegration, member)
	add("PUT", "/integrations/:kind", s.putIntegration, admin)
	add("DELETE", "/integrations/:kind", s.deleteIntegration, admin)
	add("POST", "/integrations/:kind/test", s.testIntegration, admin)

	add("GET", "/audit", s.auditLog, admin)

	s.uiRoutes(e)
	s.opsRoutes(e)

	e.RouteNotFound("/*", func(c *echo.Context) error {
		return apiError(404, "not_found", "no such route: "+c.Request().Method+" "+c.Request().URL.Path)
	})
}

// requireSetupThen applies the setup gate to a public route (login) without requiring
// authentication.
func (s *Server) requireSetupThen(h echo.HandlerFunc) echo.HandlerFunc {
	return s.requireSetup(h)
}
