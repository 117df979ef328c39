"""The sales-support desk (销售支持工单): requests to the support team with service
levels in working time, comments, attachments, satisfaction and metrics."""
