"""Services of the integration app: the inbox (`inbox`), inter-agency requests
(`interagency`), data-quality complaints (`complaints`), the federal register feed
(`publication`), and the signed HTTP they share (`http`)."""
